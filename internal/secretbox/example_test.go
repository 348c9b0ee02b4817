package secretbox_test

import (
	"fmt"

	"github.com/bindery/bindery/internal/secretbox"
)

func ExampleKeyring() {
	// After a rotation: the new key encrypts, the old one still decrypts.
	oldKr, _ := secretbox.NewKeyring("Wk5MFcJ0PE7HvOMpDBxBFRdFUC-6O-TQnaBj1dVdVSk=")
	stored, _ := oldKr.Encrypt([]byte("JBSWY3DPEHPK3PXP"))

	kr, err := secretbox.NewKeyring(
		"cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=", // ENCRYPTION_KEY
		"Wk5MFcJ0PE7HvOMpDBxBFRdFUC-6O-TQnaBj1dVdVSk=", // ENCRYPTION_KEY_PREVIOUS
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	secret, _ := kr.Decrypt(stored)
	fmt.Println(string(secret), kr.NeedsRotation(stored))
	fmt.Println(kr)

	_, err = secretbox.NewKeyring("hunter2")
	fmt.Println(err)
	// Output:
	// JBSWY3DPEHPK3PXP true
	// secretbox.Keyring(1 current key, 1 previous)
	// configuration: ENCRYPTION_KEY is not a Fernet key: it must be 32 random bytes in URL-safe base64 (44 characters); generate one with `bindery keys generate`
}

func ExampleBlindIndex() {
	kr, _ := secretbox.NewKeyring("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	// What the user types at sign-in finds what was stored at sign-up.
	fmt.Println(kr.BlindIndex("Ada@Example.org ") == kr.BlindIndex("ada@example.org"))
	fmt.Println(secretbox.BlindIndex(kr.IndexKey(), "ada@example.org"))
	// Output:
	// true
	// 814a27e2b31bf4056e454cdd5313cfb93e485758773d4fec2b3bd9f59b1dd875
}
