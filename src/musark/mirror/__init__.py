"""Mirror: locate, selective fetch from the swarm, fixity audit and repair."""
