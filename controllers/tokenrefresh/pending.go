package tokenrefresh

import (
	"crypto/sha256"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/mcp-operator/mcp-operator/internal/oauth"
	"github.com/mcp-operator/mcp-operator/internal/tokensecret"
)

// pendingRefresh is a redeemed refresh whose result is not stored yet.
type pendingRefresh struct {
	grantID  string
	redeemed [32]byte // hash of the refresh token that was spent
	token    *oauth.Token
	// tokenEndpoint is where token came from.
	tokenEndpoint string
	issuedAt      time.Time
}

// pendingStore remembers refreshed tokens until they are written, so a
// failed write is retried with them instead of redeeming the spent refresh
// token again. Only hashes of spent refresh tokens are kept.
type pendingStore struct {
	mu sync.Mutex
	m  map[types.NamespacedName]pendingRefresh
}

func (p *pendingStore) put(key types.NamespacedName, rec tokensecret.Record, tok *oauth.Token, tokenEndpoint string, issuedAt time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[types.NamespacedName]pendingRefresh{}
	}
	p.m[key] = pendingRefresh{grantID: rec.GrantID, redeemed: sha256.Sum256([]byte(rec.RefreshToken)), token: tok,
		tokenEndpoint: tokenEndpoint, issuedAt: issuedAt}
}

// get returns the pending refresh for key if the Secret still holds the
// grant and the refresh token it spent; a stale entry is dropped.
func (p *pendingStore) get(key types.NamespacedName, rec tokensecret.Record) (pendingRefresh, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[key]
	if !ok {
		return pendingRefresh{}, false
	}
	if e.grantID != rec.GrantID || e.redeemed != sha256.Sum256([]byte(rec.RefreshToken)) {
		delete(p.m, key)
		return pendingRefresh{}, false
	}
	return e, true
}

func (p *pendingStore) matches(key types.NamespacedName, rec tokensecret.Record) bool {
	_, ok := p.get(key, rec)
	return ok
}

func (p *pendingStore) drop(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, key)
}
