"""Spanish for the standard wording: the question bank, the preset scales and the demo survey.

A survey built from the bank or the template gets these filled in as its Spanish translation
(``translation.prefill``); staff review and change them on the translations page like any
other. Keys are the exact English text. Written for a general US Spanish-speaking audience
(usted, neutral vocabulary); a city should still have its own translator review them.
"""

PHRASEBOOK_ES: dict[str, str] = {
    # Preset scales and missing codes
    "No theme": "Ningún tema",  # a written answer coded with no theme of its codebook (analysis/themes.py)
    "Strongly disagree": "Muy en desacuerdo",
    "Disagree": "En desacuerdo",
    "Neither agree nor disagree": "Ni de acuerdo ni en desacuerdo",
    "Agree": "De acuerdo",
    "Strongly agree": "Muy de acuerdo",
    "Very dissatisfied": "Muy insatisfecho/a",
    "Dissatisfied": "Insatisfecho/a",
    "Neither satisfied nor dissatisfied": "Ni satisfecho/a ni insatisfecho/a",
    "Satisfied": "Satisfecho/a",
    "Very satisfied": "Muy satisfecho/a",
    "Don't know": "No sé",
    "Prefer not to say": "Prefiero no decirlo",
    "Other (please specify)": "Otro (especifique)",
    # 0-10 scales of the bank: the question, and the labelled ends as the options show them
    "On a scale from 0 to 10, how much do you trust the police in your city?":
        "En una escala de 0 a 10, ¿cuánto confía en la policía de su ciudad?",
    "On a scale from 0 to 10, how fairly do the police treat people in your neighbourhood?":
        "En una escala de 0 a 10, ¿con qué justicia trata la policía a las personas de su vecindario?",
    "On a scale from 0 to 10, how safe do you feel in your neighbourhood?":
        "En una escala de 0 a 10, ¿qué tan seguro/a se siente en su vecindario?",
    "0 – Not at all": "0 – Nada",
    "10 – Completely": "10 – Totalmente",
    "0 – Not at all fairly": "0 – Nada justamente",
    "10 – Completely fairly": "10 – Totalmente justamente",
    "0 – Not at all safe": "0 – Nada seguro/a",
    "10 – Completely safe": "10 – Totalmente seguro/a",
    "Yes": "Sí",
    "No": "No",
    # Answer lists
    "North": "Norte",
    "South": "Sur",
    "East": "Este",
    "West": "Oeste",
    "Central": "Centro",
    "16-24": "16-24",
    "25-34": "25-34",
    "35-44": "35-44",
    "45-54": "45-54",
    "55-64": "55-64",
    "65 or older": "65 o más",
    "Woman": "Mujer",
    "Man": "Hombre",
    "Non-binary or another gender": "No binario u otro género",
    "Hispanic or Latino": "Hispano o latino",
    "White": "Blanco",
    "Black or African American": "Negro o afroamericano",
    "Asian": "Asiático",
    "Another group or more than one": "Otro grupo o más de uno",
    "Very safe": "Muy seguro/a",
    "Somewhat safe": "Algo seguro/a",
    "Somewhat unsafe": "Algo inseguro/a",
    "Very unsafe": "Muy inseguro/a",
    "I called the police for help or to report something":
        "Llamé a la policía para pedir ayuda o para denunciar algo",
    "I was stopped while driving": "Me detuvieron mientras manejaba",
    "I was stopped while walking or in a public place": "Me detuvieron mientras caminaba o en un lugar público",
    "I was a victim of or witness to a crime": "Fui víctima o testigo de un delito",
    "At a community meeting or event": "En una reunión o evento comunitario",
    "Another kind of contact": "Otro tipo de contacto",
    # Question bank
    "Overall, I trust the police in my city.": "En general, confío en la policía de mi ciudad.",
    "I am confident that the police in my neighbourhood do what is right.":
        "Confío en que la policía de mi vecindario hace lo correcto.",
    "I can rely on the police to be there when I need them.":
        "Puedo contar con que la policía estará ahí cuando la necesite.",
    "The police treat the people they deal with respectfully.":
        "La policía trata con respeto a las personas con las que tiene contacto.",
    "The police take the time to listen to residents' concerns.":
        "La policía se toma el tiempo de escuchar las preocupaciones de los residentes.",
    "The police make decisions based on facts, not on who a person is.":
        "La policía toma decisiones basadas en los hechos, no en quién es la persona.",
    "When the police act, they explain why to the people involved.":
        "Cuando la policía actúa, explica el motivo a las personas involucradas.",
    "The police treat people differently depending on their race or background.":
        "La policía trata a las personas de forma distinta según su raza u origen.",
    "People should do what the police tell them, even if they disagree.":
        "Las personas deben hacer lo que les dice la policía, aunque no estén de acuerdo.",
    "The police stand up for values that matter to me.":
        "La policía defiende valores que son importantes para mí.",
    "The police use their powers within the law.": "La policía usa sus facultades dentro de la ley.",
    "The police often go beyond what the law allows them to do.":
        "La policía a menudo va más allá de lo que la ley le permite.",
    "The police do a good job of dealing with the problems that matter in my neighbourhood.":
        "La policía hace un buen trabajo al atender los problemas que importan en mi vecindario.",
    "The police come quickly when someone calls for help.":
        "La policía llega rápido cuando alguien pide ayuda.",
    "The police do a good job of preventing crime in my area.":
        "La policía hace un buen trabajo para prevenir el delito en mi zona.",
    "How safe do you feel walking alone in your neighbourhood during the day?":
        "¿Qué tan seguro/a se siente al caminar solo/a por su vecindario durante el día?",
    "How safe do you feel walking alone in your neighbourhood after dark?":
        "¿Qué tan seguro/a se siente al caminar solo/a por su vecindario de noche?",
    "I feel safe using the parks in my neighbourhood.": "Me siento seguro/a en los parques de mi vecindario.",
    "In the past 12 months, have you had any contact with the police in the city?":
        "En los últimos 12 meses, ¿ha tenido algún contacto con la policía de la ciudad?",
    "What kind of contact was it? Choose all that apply.":
        "¿Qué tipo de contacto fue? Elija todas las opciones que correspondan.",
    "How satisfied were you with the way the police handled it?":
        "¿Qué tan satisfecho/a quedó con la forma en que la policía lo manejó?",
    "The officers I dealt with treated me with respect.":
        "Los agentes con los que traté me trataron con respeto.",
    "If I saw a crime happen, I would report it to the police.":
        "Si viera que se comete un delito, lo denunciaría a la policía.",
    "I would work with the police to solve a problem in my neighbourhood.":
        "Colaboraría con la policía para resolver un problema en mi vecindario.",
    "I would give the police information to help find a suspect.":
        "Daría información a la policía para ayudar a encontrar a un sospechoso.",
    "Which police district do you live in?": "¿En qué distrito policial vive?",
    "How old are you?": "¿Cuántos años tiene?",
    "What is your gender?": "¿Cuál es su género?",
    "Which group best describes you?": "¿Qué grupo lo/la describe mejor?",
    "How many years have you lived in the city?": "¿Cuántos años ha vivido en la ciudad?",
    # Demo survey
    "Community Trust in Policing": "Confianza de la comunidad en la policía",
    "The city wants to know how residents see the police in their neighbourhood. "
    "The survey takes about five minutes. Your answers are anonymous: we do not ask "
    "for your name or address, and we do not store your IP address or device details.":
        "La ciudad quiere saber cómo ven los residentes a la policía en su vecindario. "
        "La encuesta toma unos cinco minutos. Sus respuestas son anónimas: no le pedimos "
        "su nombre ni su dirección, y no guardamos su dirección IP ni datos de su dispositivo.",
    "Taking part is voluntary. You can skip any question that is not marked as required. "
    "Results are published only as totals for groups of at least 10 people.":
        "Participar es voluntario. Puede omitir cualquier pregunta que no esté marcada como obligatoria. "
        "Los resultados se publican solo como totales de grupos de al menos 10 personas.",
    "Thank you for taking part. The results will be published on the city's website.":
        "Gracias por participar. Los resultados se publicarán en el sitio web de la ciudad.",
    "Trust and fair treatment": "Confianza y trato justo",
    "Safety and cooperation": "Seguridad y cooperación",
    "Contact with the police": "Contacto con la policía",
    "About you": "Sobre usted",
    "What is the most important safety problem in your neighbourhood?":
        "¿Cuál es el problema de seguridad más importante en su vecindario?",
    "Optional. Please do not include names or other personal details.":
        "Opcional. Por favor no incluya nombres ni otros datos personales.",
    "The district map is on the city's website.": "El mapa de distritos está en el sitio web de la ciudad.",
    "A whole number from 0 to 100. Write 0 if less than a year.":
        "Un número entero de 0 a 100. Escriba 0 si es menos de un año.",
    # Index names (results pages)
    "Trust index": "Índice de confianza",
    "Fair treatment index": "Índice de trato justo",
    "Legitimacy index": "Índice de legitimidad",
    "Effectiveness index": "Índice de eficacia",
    "Safety index": "Índice de seguridad",
    "Recent contact index": "Índice de contacto reciente",
    "Cooperation index": "Índice de cooperación",
}
