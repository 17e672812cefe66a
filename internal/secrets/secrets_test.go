package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal("sk-live-123", "ai:org-a")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "sk-live") {
		t.Fatalf("sealed value shows the secret: %s", sealed)
	}
	again, _ := box.Seal("sk-live-123", "ai:org-a")
	if again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not fresh")
	}
	if got, err := box.Open(sealed, "ai:org-a"); err != nil || got != "sk-live-123" {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	flipped := sealed[:len(sealed)-2] + "AA"
	for name, open := range map[string]func() (string, error){
		"another context": func() (string, error) { return box.Open(sealed, "ai:org-b") },
		"another key":     func() (string, error) { return other.Open(sealed, "ai:org-a") },
		"tampered":        func() (string, error) { return box.Open(flipped, "ai:org-a") },
		"not sealed":      func() (string, error) { return box.Open("sk-live-123", "ai:org-a") },
		"bad base64":      func() (string, error) { return box.Open("v1:!!!", "ai:org-a") },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: error %v, want ErrOpen", name, err)
		}
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	first, err := LoadOrCreateKeyFile(path)
	if err != nil || len(first) != KeySize {
		t.Fatalf("create: %d bytes, %v", len(first), err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	second, err := LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("reuse: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("a damaged key file was accepted")
	}
	if _, err := ParseKey("AAAA"); err == nil {
		t.Fatal("a short base64 key was accepted")
	}
}

func FuzzOpen(f *testing.F) {
	box, _ := NewBox(bytes.Repeat([]byte{1}, KeySize))
	good, _ := box.Seal("secret", "ctx")
	f.Add(good)
	f.Add("v1:")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := box.Open(s, "ctx"); err == nil && s != good && v != "secret" {
			t.Fatalf("opened a value that was never sealed: %q", s)
		}
	})
}
