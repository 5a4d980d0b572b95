package newsmon.analysis;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalyzerFactory;

/**
 * The `english` analyzer for a test node built from the minimal distribution, which lacks the
 * analysis-common module that provides it in the full distribution. Elasticsearch's own `english`
 * analyzer (analysis-common's EnglishAnalyzerProvider) is Lucene's EnglishAnalyzer with its default
 * stop words and no stem exclusions; so is this one, registered through the stable plugin API.
 */
@NamedComponent("english")
public class EnglishAnalyzerFactory implements AnalyzerFactory {
    @Override
    public Analyzer create() {
        return new EnglishAnalyzer();
    }
}
