// The import's request shapes, apart from the routes so that the prospect's import (trust) can
// use them without loading the questionnaire route plugins.
import { Type } from 'typebox';

export const JsonImport = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 300 }),
    questions: Type.Array(
      Type.Object({
        ref: Type.Optional(Type.String({ maxLength: 100 })),
        text: Type.String({ minLength: 1, maxLength: 5000 }),
        section: Type.Optional(Type.String({ maxLength: 300 })),
        allowedAnswers: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
            maxItems: 100,
            description: 'The answers the buyer allows (a dropdown list): the choice will be one of them verbatim.',
          }),
        ),
      }),
      { minItems: 1, maxItems: 5000 },
    ),
  },
  {
    $id: 'QuestionnaireInput',
    description: 'A questionnaire as JSON: its name and questions in order.',
    examples: [
      {
        name: 'Acme Corp vendor security review 2026',
        questions: [
          { ref: '1.1', text: 'Is customer data encrypted at rest?', section: 'Data protection', allowedAnswers: ['Yes', 'No', 'N/A'] },
          { ref: '1.2', text: 'Describe how encryption keys are managed and rotated.', section: 'Data protection' },
        ],
      },
    ],
  },
);

// What readQuestionnaireUpload reads from a multipart body: for the OpenAPI document only, not validated here.
export const QuestionnaireUpload = Type.Object({
  file: Type.String({
    format: 'binary',
    description:
      'The questionnaire: XLSX, CSV, JSON or a VSAQ template (JSON). Its layout (sheet, header row, question, id, section and answer columns) is detected.',
  }),
  name: Type.Optional(Type.String({ description: 'Default: the name the file gives itself, else its file name.' })),
  mapping: Type.Optional(
    Type.String({
      description:
        'JSON correcting the detection: {"sheet", "headerRow" (1-based; 0: no header), "questionColumn", "idColumn", "sectionColumn" (column letters), ' +
        '"answerColumns": [{"column", "role": choice|text|ownership|comment|other}]}. Invalid JSON is a 400.',
      examples: [
        '{"sheet":"Questions","headerRow":2,"questionColumn":"C","idColumn":"A","answerColumns":[{"column":"D","role":"choice"},{"column":"E","role":"text"}]}',
      ],
    }),
  ),
});
