package callback

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// flowTTL is how long a user has to finish signing in.
const flowTTL = 10 * time.Minute

// maxCookieBytes keeps the cookie within what every browser stores: 4096
// bytes for name, value and attributes (RFC 6265 §6.1); the name (at most
// 143 bytes: a namespace and a name of 63 characters) and the attributes
// (Path=/, Max-Age, HttpOnly, Secure, SameSite) take under 220.
const maxCookieBytes = 3800

// flow is one authorization-code flow in progress. It lives only inside the
// sealed cookie: the callback takes the user from here, never from the query.
// GET connect seals it unconfirmed; the confirmation's POST seals it again,
// confirmed, and only then sends the browser to the authorization server.
//
// Sealed, it is uvarint(len(User)) | User | the JSON of the other fields.
// The user ID stays out of the JSON, whose escaping would make its size
// depend on its characters (up to six bytes for one): outside it, an ID
// costs its length, so every ID up to mcpauth.MaxUserIDBytes fits beside
// the fixed fields at their largest (namespace and name of 63 characters)
// and 486 bytes of issuer, scopes and return_to as JSON
// (TestFlowCookieFitsTheLongestUserID).
type flow struct {
	User      string   `json:"-"`
	Namespace string   `json:"ns"`
	Name      string   `json:"n"`
	Verifier  string   `json:"v"`
	State     string   `json:"s"`
	Issuer    string   `json:"iss"`
	Scopes    []string `json:"sc,omitempty"`
	ReturnTo  string   `json:"r,omitempty"`
	Expiry    int64    `json:"exp"` // Unix seconds
	// Confirmed: the user confirmed on the connect page.
	Confirmed bool `json:"c,omitempty"`
	// ByHeader: the trusted header named the user, so every later step of
	// the flow must carry it, naming the same user (Server.sameUser).
	ByHeader bool `json:"h,omitempty"`
}

// Errors opening a flow cookie. Each means "start again".
var (
	errNoFlow      = errors.New("no sign-in is in progress for this server (the cookie is missing); start connecting again")
	errFlowInvalid = errors.New("the sign-in cookie is not valid; start connecting again")
	errFlowExpired = errors.New("the sign-in took longer than 10 minutes; start connecting again")
	// errFlowOtherServer: the cookie is valid, but for another server's sign-in.
	errFlowOtherServer = errors.New("the sign-in cookie belongs to another server's sign-in; start connecting again")
)

// flowSealer encrypts and authenticates flows with AES-256-GCM under keys
// derived from the shared --cookie-key-file keys, so every replica can open
// them: the first key seals, any key opens.
type flowSealer struct{ aeads []cipher.AEAD }

func newFlowSealer(secrets [][]byte) (*flowSealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("a cookie key is required")
	}
	fs := &flowSealer{}
	for _, secret := range secrets {
		aead, err := newFlowAEAD(secret)
		if err != nil {
			return nil, err
		}
		fs.aeads = append(fs.aeads, aead)
	}
	return fs, nil
}

func newFlowAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) < MinKeyBytes {
		return nil, fmt.Errorf("a cookie key has %d bytes; at least %d random bytes are required", len(secret), MinKeyBytes)
	}
	// v2: the user ID is sealed ahead of the JSON (v1 had it inside); a v1
	// cookie reads as not valid.
	key, err := hkdf.Key(sha256.New, secret, nil, "mcp-operator callback flow cookie v2", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the cookie key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating the cookie cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating the cookie cipher: %w", err)
	}
	return aead, nil
}

func (fs *flowSealer) seal(f flow) (string, error) {
	rest, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encoding the flow: %w", err)
	}
	plain := binary.AppendUvarint(nil, uint64(len(f.User)))
	plain = append(append(plain, f.User...), rest...)
	sealer := fs.aeads[0]
	nonce := make([]byte, sealer.NonceSize())
	_, _ = rand.Read(nonce)
	out := sealer.Seal(nonce, nonce, plain, nil)
	v := base64.RawURLEncoding.EncodeToString(out)
	if len(v) > maxCookieBytes {
		// The user ID is at most mcpauth.MaxUserIDBytes, which leaves the
		// other fields their room: they overran it.
		return "", errors.New("the sign-in request is too large (too many scopes, a long return_to or a long issuer)")
	}
	return v, nil
}

// unseal opens raw with whichever key sealed it.
func (fs *flowSealer) unseal(raw []byte) ([]byte, bool) {
	for _, aead := range fs.aeads {
		n := aead.NonceSize()
		if len(raw) < n {
			return nil, false
		}
		if plain, err := aead.Open(nil, raw[:n], raw[n:], nil); err == nil {
			return plain, true
		}
	}
	return nil, false
}

func (fs *flowSealer) open(v, namespace, name string, now time.Time) (flow, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return flow{}, errFlowInvalid
	}
	plain, ok := fs.unseal(raw)
	if !ok {
		return flow{}, errFlowInvalid
	}
	userLen, k := binary.Uvarint(plain)
	if k <= 0 || userLen > maxCookieBytes { // no sealed value holds more
		return flow{}, errFlowInvalid
	}
	end := k + int(userLen)
	if end > len(plain) {
		return flow{}, errFlowInvalid
	}
	var f flow
	if err := json.Unmarshal(plain[end:], &f); err != nil {
		return flow{}, errFlowInvalid
	}
	f.User = string(plain[k:end])
	// The server is sealed in the flow: a cookie cannot be replayed against
	// another server's callback.
	if f.Namespace != namespace || f.Name != name {
		return flow{}, errFlowOtherServer
	}
	if now.Unix() >= f.Expiry {
		return flow{}, errFlowExpired
	}
	return f, nil
}

// setFlowCookie stores the sealed flow until it expires.
func (s *Server) setFlowCookie(h http.Header, f flow) error {
	v, err := s.cookies.seal(f)
	if err != nil {
		return err
	}
	h.Add("Set-Cookie", s.flowCookie(f.Namespace, f.Name, v, int(f.Expiry-s.opts.Now().Unix())).String())
	return nil
}

// clearFlowCookie deletes the flow cookie: a flow is used at most once.
func (s *Server) clearFlowCookie(h http.Header, namespace, name string) {
	h.Add("Set-Cookie", s.flowCookie(namespace, name, "", -1).String())
}

// flowCookie is the flow cookie of one server's sign-in. It is read by the
// confirmation's POST to connect and by the callback, so its Path is "/"
// and its name tells servers apart. On https its name has the __Host-
// prefix: browsers then keep only a cookie set by this very origin, Secure,
// with Path=/ and no Domain, so a neighbouring subdomain cannot plant its
// own sign-in in the user's browser (cookie tossing). Plain http (local
// development) cannot carry the prefix.
func (s *Server) flowCookie(namespace, name, value string, maxAge int) *http.Cookie {
	secure := s.base.Scheme == "https"
	cookieName := "mcp-flow." + namespace + "." + name // a namespace has no dots
	if secure {
		cookieName = "__Host-" + cookieName
	}
	return &http.Cookie{ //nolint:gosec // G124: Secure follows the public URL's scheme (http only in local development)
		Name:     cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// readFlow opens the request's flow cookie for namespace/name.
func (s *Server) readFlow(r *http.Request, namespace, name string) (flow, error) {
	c, err := r.Cookie(s.flowCookie(namespace, name, "", 0).Name)
	if err != nil || c.Value == "" {
		return flow{}, errNoFlow
	}
	return s.cookies.open(c.Value, namespace, name, s.opts.Now())
}
