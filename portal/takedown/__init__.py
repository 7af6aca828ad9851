"""URL reports, takedown and blocking requests to ISPs, and block-list feeds."""
