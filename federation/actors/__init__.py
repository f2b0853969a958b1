"""Actors: our own (local), others' (remote cache, keys), WebFinger."""
