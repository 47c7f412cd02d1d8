package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealerRoundTrip(t *testing.T) {
	key := make([]byte, KeySize)
	s, err := NewSealer(key)
	require.NoError(t, err)

	for name, plain := range map[string]string{
		"empty":   "",
		"ascii":   "wh_secret_abc",
		"unicode": "pässwörd ☎",
		"long":    strings.Repeat("x", 5000),
	} {
		t.Run(name, func(t *testing.T) {
			sealed, err := s.Seal(plain)
			require.NoError(t, err)
			if plain != "" {
				require.True(t, strings.HasPrefix(sealed, SealedPrefix))
				require.NotContains(t, sealed, plain)
			}
			got, err := s.Open(sealed)
			require.NoError(t, err)
			require.Equal(t, plain, got)
		})
	}
}

func TestSealerNonceDiffers(t *testing.T) {
	s, err := NewSealer(make([]byte, KeySize))
	require.NoError(t, err)
	a, _ := s.Seal("same")
	b, _ := s.Seal("same")
	require.NotEqual(t, a, b, "every seal uses a fresh nonce")
}

func TestSealerRejectsTamperingAndWrongKey(t *testing.T) {
	s1, _ := NewSealer(make([]byte, KeySize))
	k2 := make([]byte, KeySize)
	k2[0] = 1
	s2, _ := NewSealer(k2)
	sealed, err := s1.Seal("secret")
	require.NoError(t, err)

	_, err = s2.Open(sealed)
	require.ErrorIs(t, err, ErrSealed)

	tampered := sealed[:len(sealed)-2] + "AA"
	_, err = s1.Open(tampered)
	require.ErrorIs(t, err, ErrSealed)

	_, err = s1.Open(SealedPrefix + "!!!")
	require.ErrorIs(t, err, ErrSealed)

	plain, err := s1.Open("legacy-plaintext")
	require.NoError(t, err)
	require.Equal(t, "legacy-plaintext", plain)
}

func TestNewSealerKeySize(t *testing.T) {
	_, err := NewSealer([]byte("short"))
	require.Error(t, err)
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "secret.key")
	k1, err := LoadOrCreateKey("", path)
	require.NoError(t, err)
	require.Len(t, k1, KeySize)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	k2, err := LoadOrCreateKey("", path)
	require.NoError(t, err)
	require.Equal(t, k1, k2, "the generated key is reused")

	hexKey := strings.Repeat("ab", KeySize)
	k3, err := LoadOrCreateKey(hexKey, path)
	require.NoError(t, err)
	require.Equal(t, byte(0xab), k3[0])

	_, err = LoadOrCreateKey("nothex", path)
	require.Error(t, err)
}

func TestHashToken(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	require.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashToken("abc"))
}
