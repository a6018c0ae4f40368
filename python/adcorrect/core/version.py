"""The package version (one place; written into generated SMT files and printed by the CLI)."""

VERSION = "0.1.0"
