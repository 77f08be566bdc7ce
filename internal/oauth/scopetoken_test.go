package oauth

import "testing"

func TestValidScopeToken(t *testing.T) {
	for s, want := range map[string]bool{
		"openid":                  true,
		"read:repo":               true,
		"https://graph/.default":  true,
		"offline_access":          true,
		"!#$%&'()*+,-./[]^_`{|}~": true,
		"":                        false,
		"read write":              false,
		`say"hi"`:                 false,
		`back\slash`:              false,
		"tab\there":               false,
		"del\x7f":                 false,
		"lesen✓":                  false,
	} {
		if got := ValidScopeToken(s); got != want {
			t.Errorf("ValidScopeToken(%q) = %v, want %v", s, got, want)
		}
	}
}
