"""The KServe model server: the vision and audio models on the workers' runtime, Open Inference
Protocol v2, swapping versions on promotion like the workers."""
