"""proplab: a NumPy-only backpropagation lab.

Build small networks whose backward pass is written by hand, check every
gradient, train and compare them, and turn experiments into figures and a report.
"""

from proplab.activations import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from proplab.batchnorm import BatchNorm1d
from proplab.conv import Conv1d, Unsqueeze
from proplab.core import Module, Sequential, eval_mode
from proplab.data import generate_linear, generate_XOR_easy, generate_xor_easy
from proplab.dropout import Dropout
from proplab.gradcheck import GradcheckResult, gradcheck
from proplab.history import History
from proplab.layers import Flatten, Linear
from proplab.losses import BCELoss, CrossEntropyLoss, Loss, MSELoss
from proplab.metrics import confusion_matrix, one_hot, r2_score
from proplab.models import conv_net, hidden_activations, mlp
from proplab.optim import SGD, AdaGrad, Adam, RMSProp
from proplab.optim_base import Optimizer
from proplab.parameter import Parameter
from proplab.schedules import CosineAnnealingLR, ReduceLROnPlateau, StepLR
from proplab.scoring import accuracy, evaluate
from proplab.serialize import load, load_optimizer, save
from proplab.trace import StepTrace, trace_step
from proplab.train import fit
from proplab.zoo import load_zoo

# the one place the version is written: pyproject.toml reads this literal when a wheel is
# built. Raise it for every wheel handed out: pip keeps an installed proplab of the same version
__version__ = "0.1.0"

__all__ = [
    "SGD",
    "AdaGrad",
    "Adam",
    "BCELoss",
    "BatchNorm1d",
    "CosineAnnealingLR",
    "CrossEntropyLoss",
    "ReduceLROnPlateau",
    "StepLR",
    "confusion_matrix",
    "hidden_activations",
    "load_zoo",
    "one_hot",
    "r2_score",
    "Conv1d",
    "Dropout",
    "Flatten",
    "GradcheckResult",
    "History",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "Optimizer",
    "Parameter",
    "RMSProp",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StepTrace",
    "Tanh",
    "Unsqueeze",
    "accuracy",
    "conv_net",
    "eval_mode",
    "evaluate",
    "fit",
    "generate_XOR_easy",
    "generate_linear",
    "generate_xor_easy",
    "gradcheck",
    "load",
    "load_optimizer",
    "mlp",
    "save",
    "trace_step",
]
