enum ConsensusModule {}
