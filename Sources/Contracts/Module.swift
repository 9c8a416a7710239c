enum ContractsModule {}
