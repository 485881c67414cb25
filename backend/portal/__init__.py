"""The public refill portal (issue 17): each chain's front door for its customers, open to the internet."""
