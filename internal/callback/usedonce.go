package callback

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcpv1 "github.com/mcp-operator/mcp-operator/api/v1alpha1"
)

// UsedOnceConfigMapPrefix names the ConfigMaps, in the served namespace,
// that remember single-use values for every replica: the prefix and one hex
// digit (UsedOnceConfigMaps). config/callback/role.yaml grants get and
// update on these names only.
const UsedOnceConfigMapPrefix = "mcp-callback-used-once-"

// usedOnceShards is how many ConfigMaps the values are spread over, by the
// first hex digit of their hash. A claim is a read and an update of one
// object, and concurrent claims of one object conflict and retry: with a
// single ConfigMap, 50 users signing in at once had a third of their
// connects refused when the retries ran out.
const usedOnceShards = 16

// UsedOnceConfigMaps lists the names of the single-use ConfigMaps.
func UsedOnceConfigMaps() []string {
	names := make([]string, usedOnceShards)
	for i := range names {
		names[i] = usedOnceConfigMap(i)
	}
	return names
}

// maxUsedOnce bounds each ConfigMap (about 50 bytes an entry, small next to
// the 1 MiB an object may hold, and small to rewrite on each claim).
// Entries live at most about ten minutes (a ticket's or a flow's lifetime),
// so the 16,000 in all are room for more than ten sign-ins a second, each
// using two; past it, claims are refused rather than anything forgotten.
const maxUsedOnce = 1000

// claimBackoff retries a claim that lost a race with another claim of the
// same ConfigMap (about 3 s in all before giving up).
var claimBackoff = wait.Backoff{Steps: 16, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: 500 * time.Millisecond}

var errUsedOnceFull = errors.New("too many sign-ins in the last minutes; try again shortly")

// Kinds of single-use values; each is a prefix of its entries' keys.
const (
	usedTicket = "ticket" // the jti of a ticket in a connect link
	usedState  = "state"  // the state of a callback that got as far as the code exchange
)

// usedOnce remembers single-use values until they expire, in ConfigMaps
// shared by every replica. A claim reads the value's ConfigMap and updates
// it with the read's resourceVersion, so of two replicas claiming the same
// value at once exactly one update succeeds; the other re-reads and finds
// the value taken. Entries are hashes: no ticket, jti or state is stored.
type usedOnce struct {
	client    client.Client
	namespace string
	now       func() time.Time
	// shards serialize this replica's claims of one ConfigMap: racing
	// each other they could only conflict and back off, which under 50
	// simultaneous sign-ins put hundreds of milliseconds into the slowest.
	// Claims of other replicas still conflict and retry.
	shards [usedOnceShards]sync.Mutex
}

// claim marks value (of kind) as used until expiry and reports whether it
// was unused. An error means nothing is known: the caller refuses.
func (u *usedOnce) claim(ctx context.Context, kind, value string, expiry time.Time) (bool, error) {
	key, shard := usedKey(kind, value)
	name := usedOnceConfigMap(shard)
	u.shards[shard].Lock()
	defer u.shards[shard].Unlock()
	until := strconv.FormatInt(expiry.Unix(), 10)
	fresh := false
	err := retry.OnError(claimBackoff, lostRace, func() error {
		cm := &corev1.ConfigMap{}
		err := u.client.Get(ctx, client.ObjectKey{Namespace: u.namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Namespace: u.namespace, Name: name,
					Labels: map[string]string{mcpv1.LabelManagedBy: mcpv1.ManagedByValue}},
				Data: map[string]string{key: until},
			}
			if err := u.client.Create(ctx, cm); err != nil {
				return err // AlreadyExists: another replica created it; read it again
			}
			fresh = true
			return nil
		}
		if err != nil {
			return err
		}
		if cm.Labels[mcpv1.LabelManagedBy] != mcpv1.ManagedByValue {
			return errors.New("it exists but is not managed by mcp-operator; delete it")
		}
		if _, used := cm.Data[key]; used {
			return nil
		}
		now := u.now().Unix()
		for k, v := range cm.Data {
			if exp, err := strconv.ParseInt(v, 10, 64); err != nil || now >= exp {
				delete(cm.Data, k)
			}
		}
		if len(cm.Data) >= maxUsedOnce {
			return errUsedOnceFull
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[key] = until
		if err := u.client.Update(ctx, cm); err != nil {
			return err // Conflict: another replica wrote first; read it again
		}
		fresh = true
		return nil
	})
	if err != nil && !errors.Is(err, errUsedOnceFull) {
		err = fmt.Errorf("remembering a single-use value in ConfigMap %s/%s: %w", u.namespace, name, err)
	}
	return fresh, err
}

// spent reports whether value (of kind) was claimed, without claiming it.
func (u *usedOnce) spent(ctx context.Context, kind, value string) (bool, error) {
	key, shard := usedKey(kind, value)
	name := usedOnceConfigMap(shard)
	cm := &corev1.ConfigMap{}
	err := u.client.Get(ctx, client.ObjectKey{Namespace: u.namespace, Name: name}, cm)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading ConfigMap %s/%s: %w", u.namespace, name, err)
	}
	_, used := cm.Data[key]
	return used, nil
}

// usedKey is value's entry, its kind and a hash (128 bits of SHA-256), and
// the shard whose ConfigMap holds it: the hash's first hex digit.
func usedKey(kind, value string) (key string, shard int) {
	sum := sha256.Sum256([]byte(value))
	return kind + "." + hex.EncodeToString(sum[:16]), int(sum[0] >> 4)
}

// usedOnceConfigMap is the name of shard's ConfigMap.
func usedOnceConfigMap(shard int) string {
	return UsedOnceConfigMapPrefix + strconv.FormatInt(int64(shard), 16)
}

// usedOnceFailed is the failure for a claim that could not be made: a
// single-use value is refused when its use cannot be remembered.
func usedOnceFailed(err error) *failure {
	if errors.Is(err, errUsedOnceFull) {
		return &failure{status: http.StatusServiceUnavailable, result: resultRejected, msg: err.Error(), log: "Refused: the single-use memory is full"}
	}
	return &failure{status: http.StatusServiceUnavailable, result: resultStoreFailed, log: "Remembering a single-use value failed", err: err,
		msg: "the sign-in could not be recorded; try again"}
}

func lostRace(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
