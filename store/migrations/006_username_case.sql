-- Usernames that differ only by case are one account: sign-in finds a user
-- whatever the case typed, and the lockout already counts them as one.
-- (A database holding two such users stops here, naming the pair: rename
-- one of them, then migrate again.)
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
