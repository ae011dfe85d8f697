"""Following sources, hashtags and stories; muting; saved articles; the personal "For you" feed."""
