"""The ground floor: math written once and the checks, seeding and file writing that every
floor above shares. Nothing here imports another part of aelab."""
