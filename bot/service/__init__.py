"""The operations every interface uses, each in one transaction."""
