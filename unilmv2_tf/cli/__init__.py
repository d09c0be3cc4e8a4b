"""absl entry points behind the `unilmv2` command."""
