"""Editors' question sets: each question asked and scored (answer, evidence, declines by kind, the
short answer, latency) against floors, and runs rendered side by side as an HTML report."""
