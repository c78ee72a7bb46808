"""Channel adapters, one package each. Importing this package registers them all: a new
channel is its folder plus one line here."""
from channels import console, email, max, telegram, vk  # noqa: F401
