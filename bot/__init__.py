"""Assembly: settings, the Bot and Dispatcher factory, middlewares, keyboards, the CLI."""
