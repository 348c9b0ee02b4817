-- One database, one key: the check value (secretbox.CheckValue, a
-- one-way derivation, never the key) of the ENCRYPTION_KEY that encrypted
-- this database. Open refuses a keyring that lacks it; `bindery keys
-- rotate` moves it to the new key once every value is re-encrypted.
CREATE TABLE key_check (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
