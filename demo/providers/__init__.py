"""Fake provider servers: real HTTP on 127.0.0.1 speaking the OpenAI and Karlo wire formats
exactly, with latency knobs and faults. Demo mode serves the app against them; the tests
import them as ``tests.fakes.<name>``."""
