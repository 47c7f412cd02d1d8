package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SealedPrefix marks a value encrypted by a [Sealer]; the key version follows it.
const SealedPrefix = "enc:v1:"

// KeySize is the size of a sealing key: AES-256.
const KeySize = 32

// ErrSealed means a sealed value could not be opened (wrong key or tampered).
var ErrSealed = errors.New("store: cannot decrypt sealed value")

// Sealer encrypts secrets at rest with AES-256-GCM. A sealed value is
// SealedPrefix + base64(nonce ‖ ciphertext ‖ tag): text, so that it fits the
// same VARCHAR/TEXT columns on every database.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer builds a Sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("store: sealing key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext. The empty string stays empty (NULL in the database).
func (s *Sealer) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("store: seal: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return SealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal. A value without the prefix is returned as
// it is: rows written before encryption was turned on stay readable.
func (s *Sealer) Open(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, SealedPrefix)
	if !ok {
		return sealed, nil
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return "", ErrSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}

// LoadOrCreateKey returns the sealing key: hexKey when it is set (64 hex digits,
// from configuration), else the key in path, which is created with a fresh
// random key and mode 0600 the first time.
func LoadOrCreateKey(hexKey, path string) ([]byte, error) {
	if hexKey != "" {
		key, err := hex.DecodeString(strings.TrimSpace(hexKey))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("store: encryption key must be %d hex digits", 2*KeySize)
		}
		return key, nil
	}
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("store: %s does not hold a %d-byte hex key", path, KeySize)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: read key: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("store: generate key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: key dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: write key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("store: write key: %w", err)
	}
	return key, f.Close()
}

// HashToken is how API key tokens are stored: hex SHA-256 of the token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
