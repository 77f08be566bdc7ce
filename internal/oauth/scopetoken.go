package oauth

// ValidScopeToken reports whether s is one RFC 6749 §3.3 scope-token:
// one or more of %x21 / %x23-5B / %x5D-7E, that is printable ASCII without
// space, double quote or backslash. A space-separated list is not one token.
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isScopeChar(s[i]) {
			return false
		}
	}
	return true
}

func isScopeChar(c byte) bool {
	return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)
}
