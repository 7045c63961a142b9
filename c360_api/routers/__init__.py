"""One router per team; each route runs one `sql/<team>/<query>.sql` file."""
