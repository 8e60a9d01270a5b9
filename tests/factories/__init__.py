"""factory-boy factories, one module per lifecycle app."""
