package harness

import (
	"fmt"
	"net"
)

// FreeAddr returns a 127.0.0.1:port that was free a moment ago, for a child
// process that takes its listen address as a flag.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
