"""Load the DIET and TED models of a trained Rasa model without tracing a training step.

Rasa 3.6.21's ``RasaModel.load`` builds the network's weights by fitting it on one example
(``model.fit``, one batch) before reading the trained weights over them. Keras traces a whole
training step for that fit — forward pass, gradients, optimizer — and on this 2-core machine the
tracing was 6.4 s of the Rasa server's ~20 s start (py-spy, 2026-12-03), in every start: each
``make run``, each restart and each model swap, and some twenty times in ``make test``.

The replacement is Rasa's own ``load`` with one change: that one-batch fit runs eagerly (no
tracing). It still runs Rasa's own train step, so it creates exactly the weights and optimizer
state the traced fit creates; the trained weights are then read over them as before, and the
model's own eager / graph setting is put back before the first prediction is traced, so
predictions run in the same compiled graph as before. Fine-tuning (``finetune_mode``) keeps
Rasa's load untouched. ``tests/rasa_addons/test_model_load.py`` loads the project's model both
ways and compares every weight and the predictions.

Installed with the other Rasa replacements by ``rasa_addons.speedups.install()``.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_installed = False
# SHA-256 of the source of Rasa 3.6.21's ``RasaModel.load``, which ``load_without_tracing``
# repeats: another Rasa keeps its own load (and a warning says why) until this is re-checked.
RASA_LOAD_SOURCE = "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292"


def load_without_tracing(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """``RasaModel.load`` (Rasa 3.6.21) with the weight-building fit run eagerly."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    logger.debug(f"Loading the model from {model_file_name} with finetune_mode={finetune_mode}...")
    model = cls(*args, **kwargs)
    learning_rate = kwargs.get("config", {}).get(LEARNING_RATE, 0.001)
    run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)

    # need to train on 1 example to build weights of the correct size: eagerly, not traced
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
    data_generator = RasaBatchDataGenerator(model_data_example, batch_size=1)
    model.fit(data_generator, verbose=False)
    model.run_eagerly = run_eagerly  # as Rasa compiles it: predictions traced as before
    # load trained weights
    model.load_weights(model_file_name)

    # predict on one data example to speed up prediction during inference
    if not finetune_mode and predict_data_example:
        model.run_inference(predict_data_example)
    logger.debug("Finished loading the model.")
    return model


def install() -> None:
    """Replace ``RasaModel.load`` for inference loads (idempotent)."""
    global _installed
    if _installed:
        return
    import hashlib
    import inspect

    from rasa.utils.tensorflow.models import RasaModel

    source = inspect.getsource(RasaModel.load).encode()
    if hashlib.sha256(source).hexdigest() != RASA_LOAD_SOURCE:
        logger.warning("RasaModel.load is not Rasa 3.6.21's: the model loads the slower way")
        _installed = True
        return
    original = RasaModel.load.__func__  # type: ignore[attr-defined]

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode:
            return original(
                cls,
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        return load_without_tracing(
            cls,
            model_file_name,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )

    RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]
    _installed = True
