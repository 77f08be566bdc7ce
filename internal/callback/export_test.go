package callback

import "time"

// OpenFlowForTest opens a flow cookie value and returns its secret parts, so
// the log-capture test can look for them.
func (s *Server) OpenFlowForTest(value, namespace, name string) (verifier, state string, err error) {
	f, err := s.cookies.open(value, namespace, name, time.Now())
	return f.Verifier, f.State, err
}
