"""The conversation with residents: pure, no I/O; the clock and the data are passed in."""
