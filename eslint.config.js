import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'data/**'] }),
  {
    rules: {
      // A TypeBox schema and its Static<> type share one name on purpose.
      '@typescript-eslint/no-redeclare': 'off'
    }
  }
]
