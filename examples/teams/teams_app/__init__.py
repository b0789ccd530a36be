"""Engineering metrics for a team: developers, pull requests and their reviews, week by week."""
