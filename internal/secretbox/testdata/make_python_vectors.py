# Regenerates python_fernet_vectors.json with Python's `cryptography`
# (Debian python3-cryptography):  python3 make_python_vectors.py > python_fernet_vectors.json
# The Go tests decrypt every token with its key, so the interop with the
# original system is checked even where Python is not installed.
import base64, json, sys
import cryptography
from cryptography.fernet import Fernet

plaintexts = [
    b"",
    b"JBSWY3DPEHPK3PXP",                     # a TOTP secret, exactly one block
    "ada.lovelace@example.org".encode(),
    "Übersetzung – 翻訳 – ✓".encode(),
    bytes(range(256)),                       # every byte value, many blocks
]
out = {"generator": "python cryptography " + cryptography.__version__, "vectors": []}
for p in plaintexts:
    key = Fernet.generate_key()
    out["vectors"].append({
        "key": key.decode(),
        "token": Fernet(key).encrypt(p).decode(),
        "plaintext_b64": base64.b64encode(p).decode(),
    })
json.dump(out, sys.stdout, indent=2)
sys.stdout.write("\n")
