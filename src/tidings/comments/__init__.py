"""Reader comments: threads, votes, reports, spam holds and moderation."""
