"""Code of Conduct: versions, signatures by ISPs, measures and annual compliance reports."""
