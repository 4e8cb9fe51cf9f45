"""The model: visitor-answer data, the kNN, training, evaluation and the model file (numpy, never on the Lambda)."""
