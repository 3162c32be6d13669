-- Guidance at a distance (SPEC §2a, Beweeghuis/Stadspoli Maastricht): secure messages between
-- a trajectory's therapist and its participant, read in the app and the portal, never sent by
-- mail (a mail only says there is a new message). `author_side` is 'therapist' (staff: the
-- therapist, or a coordinator of the organisation, named by `author_user_id`) or 'participant'
-- (no account, so no user id). `read_at` is when the other side opened the conversation.
-- Erasure (`store::referrals::erase`) deletes a trajectory's messages.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    trajectory_id   TEXT NOT NULL REFERENCES trajectories (id),
    author_side     TEXT NOT NULL,
    author_user_id  TEXT REFERENCES users (id),
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    read_at         BIGINT
);
CREATE INDEX messages_trajectory ON messages (trajectory_id, created_at);
