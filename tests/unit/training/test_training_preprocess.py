"""Preprocessing: vision resize/normalise, bytes -> model pixels, and the numpy log-mel."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from fieldstream.media_decoding import MediaDecodeError, decode_image
from model_contract.preprocess import (
    AudioPreprocessConfig,
    VisionPreprocessConfig,
    decode_for_model,
    fit_length,
    log_mel,
    mel_filterbank,
    prepare_images,
    resize_images,
)
from model_contract.preprocess.audio import mel_centres, power_spectrogram


def _images(n=3, h=48, w=64, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def test_vision_config_round_trips_through_json():
    cfg = VisionPreprocessConfig(96, 64, mean=(0.1, 0.2, 0.3), std=(0.4, 0.5, 0.6))
    assert VisionPreprocessConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_prepare_images_shape_dtype_and_normalisation():
    cfg = VisionPreprocessConfig(32, 32)
    flat = np.full((1, 50, 70, 3), (255, 0, 128), dtype=np.uint8)
    x = prepare_images(flat, cfg)
    assert x.shape == (1, 3, 32, 32) and x.dtype == np.float32
    expected = (np.array([255, 0, 128]) / 255.0 - np.array(cfg.mean)) / np.array(cfg.std)
    np.testing.assert_allclose(x[0].reshape(3, -1).mean(axis=1), expected, atol=1e-5)
    np.testing.assert_allclose(x[0].reshape(3, -1).std(axis=1), 0.0, atol=1e-5)


def test_prepare_images_list_and_array_agree_and_model_size_is_not_resampled():
    cfg = VisionPreprocessConfig(64, 48)
    images = _images()
    np.testing.assert_array_equal(prepare_images(images, cfg), prepare_images(list(images), cfg))
    np.testing.assert_array_equal(resize_images(images, cfg), images)  # already at the model size
    yy, xx = np.mgrid[0:48, 0:64]
    smooth = np.stack([xx * 3, yy * 4, xx + yy], axis=-1).astype(np.uint8)[None]
    big = np.repeat(np.repeat(smooth, 2, axis=1), 2, axis=2)  # 2x nearest upsample
    inner = np.s_[:, 2:-2, 2:-2]
    assert np.abs(resize_images(big, cfg).astype(int) - smooth)[inner].max() <= 3


def test_prepare_images_rejects_bad_input():
    with pytest.raises(ValueError):
        prepare_images(np.zeros((10, 10, 3), dtype=np.uint8))  # ambiguous: not (N, H, W, 3)
    with pytest.raises(ValueError):
        prepare_images([np.zeros((10, 10, 3), dtype=np.float32)])


def _encoded(image: np.ndarray, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def _smooth_scene(h=480, w=640):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) * 127 // (h + w)], axis=-1).astype(np.uint8)


def test_decode_for_model_gives_model_size_pixels_close_to_full_decode_and_resize():
    cfg = VisionPreprocessConfig()  # 256 x 192
    scene = _smooth_scene()
    for fmt in ("JPEG", "PNG"):
        data = _encoded(scene, fmt)
        fast = decode_for_model(data, cfg)
        assert fast.shape == (192, 256, 3) and fast.dtype == np.uint8
        reference = resize_images([decode_image(data)], cfg)[0]
        # JPEG: decoded at half scale by libjpeg, then resized; PNG: the very same path
        assert np.abs(fast.astype(int) - reference).mean() < (1.5 if fmt == "JPEG" else 1e-9)


def test_decode_image_min_size_decodes_a_jpeg_at_a_reduced_scale_never_below_it():
    data = _encoded(_smooth_scene(), "JPEG")
    assert decode_image(data).shape == (480, 640, 3)
    assert decode_image(data, min_size=(256, 192)).shape == (240, 320, 3)  # 1/2: still >= 256 x 192
    assert decode_image(data, min_size=(100, 60)).shape == (120, 160, 3)  # 1/4
    assert decode_image(data, min_size=(400, 300)).shape == (300, 400, 3)  # 5/8: 1/2 is too small
    assert decode_image(data, min_size=(641, 10)).shape == (480, 640, 3)  # never enlarged


def test_decode_for_model_rejects_bytes_that_are_not_an_image():
    with pytest.raises(MediaDecodeError, match="image bytes could not be decoded") as err:
        decode_for_model(b"\xff\xd8\xff not really a jpeg")
    assert "BytesIO" not in str(err.value) and "0x" not in str(err.value)


def test_audio_config_round_trips_and_defaults_give_5s_input():
    cfg = AudioPreprocessConfig()
    assert AudioPreprocessConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert cfg.clip_samples == 160000
    assert cfg.input_shape == (1, 64, 313)


def test_slaney_filterbank_rows_have_unit_area_and_ascending_peaks():
    cfg = AudioPreprocessConfig()
    fb = mel_filterbank(cfg)
    assert fb.shape == (64, 513) and fb.dtype == np.float32
    area = fb.sum(axis=1) * cfg.sample_rate / cfg.n_fft  # Slaney norm: each triangle integrates to ~1
    assert area.min() > 0.9 and area.max() < 1.1
    assert np.all(np.diff(fb.argmax(axis=1)) >= 0)


@pytest.mark.parametrize("scale", ["slaney", "htk"])
def test_unnormalised_filterbank_is_a_partition_of_unity_inside_the_band(scale):
    cfg = AudioPreprocessConfig(mel_norm=None, mel_scale=scale)
    fb = mel_filterbank(cfg)
    centres = mel_centres(cfg)
    freqs = np.linspace(0, cfg.sample_rate / 2, fb.shape[1])
    inside = (freqs >= centres[0]) & (freqs <= centres[-1])
    np.testing.assert_allclose(fb.sum(axis=0)[inside], 1.0, atol=1e-5)
    assert fb.sum(axis=0)[freqs > cfg.fmax + 1].max() == 0.0


def _tone(freq, amplitude=0.5, seconds=5.0, sr=32000):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("scale", ["slaney", "htk"])
def test_a_2khz_tone_peaks_in_the_mel_band_centred_nearest_2khz(scale):
    cfg = AudioPreprocessConfig(mel_scale=scale)
    x = log_mel(_tone(2000.0), 32000, cfg)
    assert x.shape == (1, *cfg.input_shape) and x.dtype == np.float32
    profile = x[0, 0, :, 2:-2].mean(axis=1)
    assert int(profile.argmax()) == int(np.argmin(np.abs(mel_centres(cfg) - 2000.0)))


def test_stft_scaling_puts_a_bin_centred_sine_at_half_its_amplitude():
    cfg = AudioPreprocessConfig()
    power = power_spectrogram(fit_length(_tone(2000.0, amplitude=0.5), cfg), cfg)  # 2000 Hz = bin 64
    assert power.shape == (1, cfg.n_frames, 513)
    np.testing.assert_allclose(power[0, 10:-10, 64], 0.25**2, rtol=1e-3)


def test_log_mel_pads_and_crops_to_exactly_5s():
    cfg = AudioPreprocessConfig()
    wave = np.random.default_rng(1).normal(0, 0.1, 200000).astype(np.float32)
    short = wave[:100000]
    padded = np.concatenate([short, np.zeros(60000, np.float32)])
    out = log_mel([short, wave], 32000, cfg)
    np.testing.assert_array_equal(out[0], log_mel(padded[None], 32000, cfg)[0])
    np.testing.assert_array_equal(out[1], log_mel(wave[None, :160000], 32000, cfg)[0])
    with pytest.raises(ValueError, match="resample"):
        log_mel(wave, 16000, cfg)


def test_log_mel_levels_follow_the_fixed_db_scaling():
    cfg = AudioPreprocessConfig()
    silence = log_mel(np.zeros(160000, np.float32), 32000, cfg)
    floor_db = 10 * np.log10(cfg.power_floor)
    np.testing.assert_allclose(silence, (floor_db - cfg.db_mean) / cfg.db_std, rtol=1e-6)


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_grey_and_cmyk_jpegs_decode_to_rgb(mode):
    # simplejpeg converts greyscale itself; CMYK it cannot, and Pillow takes over
    image = Image.fromarray(_smooth_scene()).convert(mode)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    decoded = decode_image(buf.getvalue(), min_size=(256, 192))
    assert decoded.shape[2] == 3 and decoded.dtype == np.uint8 and min(decoded.shape[:2]) >= 192
