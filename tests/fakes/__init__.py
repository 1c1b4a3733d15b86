"""Fake provider servers: real HTTP on 127.0.0.1, speaking the providers' wire formats."""
