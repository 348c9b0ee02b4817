-- A draft run builds despite missing images and broken links (placeholders
-- and plain text instead); its files can never become the edition.
ALTER TABLE runs ADD COLUMN draft BOOLEAN NOT NULL DEFAULT false;
