"""What members publish: practices, commitments, and the pieces they share."""
