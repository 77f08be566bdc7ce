package callback

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxUsedStates bounds the replay memory; entries expire with their flow.
const maxUsedStates = 100000

// usedStates remembers the states of finished callbacks until their flow
// would have expired, so a replayed callback (the same cookie and query sent
// again) is refused. It is per replica; across replicas the authorization
// server's single-use codes still stop the replay at the exchange.
type usedStates struct {
	mu   sync.Mutex
	seen map[[32]byte]time.Time
}

func newUsedStates() *usedStates { return &usedStates{seen: map[[32]byte]time.Time{}} }

// claim marks state as used and reports whether it was unused.
func (u *usedStates) claim(state string, expiry, now time.Time) bool {
	key := sha256.Sum256([]byte(state)) // keep no state values in memory
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, dup := u.seen[key]; dup {
		return false
	}
	if len(u.seen) >= maxUsedStates/2 {
		for k, exp := range u.seen {
			if !now.Before(exp) {
				delete(u.seen, k)
			}
		}
	}
	if len(u.seen) >= maxUsedStates {
		return false // flooded: refuse rather than forget
	}
	u.seen[key] = expiry
	return true
}
