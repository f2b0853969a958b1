"""ActivityStreams vocabulary: constants and tolerant readers of untrusted documents."""
