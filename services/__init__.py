"""The dispatch domain: no aiogram here, every rule testable with a real database."""
