"""The registry of installed repositories, installation reconciling, and recovery when Redis lost it."""
