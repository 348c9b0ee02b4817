-- Invitations to become a member of a book, addressed to an e-mail
-- address (not an account: inviting must not reveal whether an account
-- exists). The address is personal data: encrypted (Fernet), and found by
-- its keyed blind index, exactly like users.email_enc / email_index.
CREATE TABLE book_invitations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    invited_by  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_index TEXT    NOT NULL,
    email_enc   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    -- Declined by the addressee: hidden from them, but kept (and listed to
    -- the book's managers as pending) until it expires, so that a decline
    -- does not tell the inviter that an account has the address.
    declined    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (book_id, email_index)
);
CREATE INDEX book_invitations_email ON book_invitations (email_index);
