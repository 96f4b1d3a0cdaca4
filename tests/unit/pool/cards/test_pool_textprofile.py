"""The small language detector and the text statistics of a card."""

from __future__ import annotations

import pytest

from benchagent.pool.cards.textprofile import describe_samples, detect_language, text_stats
from benchagent.records import SourceSample

TEXTS = {
    "en": "Which of the following is the best answer to the question that was asked?",
    "de": "Welche der folgenden Antworten ist die beste, und warum ist das nicht so einfach?",
    "fr": "Quelle est la meilleure réponse à la question qui est posée dans le texte?",
    "es": "¿Cuál es la mejor respuesta a la pregunta que se hace en el texto de la prueba?",
    "it": "Quale è la risposta migliore per la domanda che è stata fatta nel testo della prova?",
    "pt": "Qual é a melhor resposta para a pergunta que foi feita no texto da prova? Não sei.",
    "nl": "Wat is het beste antwoord op de vraag die in de tekst wordt gesteld, en hoe dan?",
    "zh": "下列哪一项是对这个问题的最佳回答？",
    "ja": "次のうち、この質問に対する最も良い答えはどれですか？",
    "ko": "다음 중 이 질문에 대한 가장 좋은 대답은 무엇입니까?",
    "ru": "Какой из следующих ответов является лучшим ответом на этот вопрос?",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_detects_language(lang: str) -> None:
    assert detect_language([TEXTS[lang]] * 3) == lang


def test_undetermined_without_words() -> None:
    assert detect_language(["3 + 4 = ?", "12 * 7"]) == "und"
    assert detect_language([]) == "und"


def _s(question: str, context: str = "", answer: str = "a",
       options: list[str] | None = None) -> SourceSample:
    return SourceSample(dataset_id="d", source_id=question, question=question, context=context,
                        answer=answer, options=options or [])


def test_text_stats_and_card_fields() -> None:
    samples = [_s("x" * n, "y" * n, answer="b" * n, options=["p", "q"] if n == 10 else None)
               for n in (10, 20, 30, 40)]
    assert text_stats(samples) == {"mean": 50.0, "median": 50.0, "p95": 80.0}
    assert text_stats([]) == {}
    extra = describe_samples(samples)
    assert extra["answer_length_mean"] == 25.0 and extra["num_options_mean"] == 0.5
    assert extra["language"] == "und"
