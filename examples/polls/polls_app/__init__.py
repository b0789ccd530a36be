"""A live poll: options with a denormalised vote counter, and the votes themselves."""
